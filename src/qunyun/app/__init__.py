"""The composition root: builds the engine, the feature registry, the platforms and the pipeline."""
