"""The pipeline: validate, dedupe, log, resolve identities, run features, outbox, deliver."""
