"""Route modules, each thin: parse input, call one `kb` function, render."""
