"""Training data: ``datasets`` (the registry of named datasets and every loader, all giving float32
images in [-1, 1]) and ``image_files`` (the safe decoding of untrusted image folders and zips).

To add a dataset, write its loader in ``datasets`` and call ``register_dataset`` there."""
