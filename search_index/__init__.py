"""Full-text search over provisions with whoosh; the only package that imports whoosh."""
