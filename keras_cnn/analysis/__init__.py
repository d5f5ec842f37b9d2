"""Looking at a model: the layer table, parameters, multiply-adds, receptive fields,
diagrams and, in :mod:`keras_cnn.analysis.inside`, what a trained network responds to."""
