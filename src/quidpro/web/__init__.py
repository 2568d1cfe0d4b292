"""The analyst's workbench in the browser (``quidpro serve``): FastAPI app, page, API."""
