"""The web surface: JSON API and HTML views, thin over the `kb` domain functions."""
