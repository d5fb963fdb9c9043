"""Renderers: result models to Markdown (and later HTML, JUnit XML and JSON); they know nothing of how results were obtained."""
