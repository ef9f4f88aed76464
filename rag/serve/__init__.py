"""The HTTP edge: the FastAPI app, its middleware and the web page (web/)."""
