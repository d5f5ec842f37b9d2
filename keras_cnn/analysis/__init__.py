"""Looking at a model: the layer table, parameters, multiply-adds, receptive fields,
diagrams and, in :mod:`keras_cnn.analysis.inside`, what a trained network responds to.

One walk over the graph (:mod:`~keras_cnn.analysis.graph`, nested models expanded), one
geometry engine for fields and boxes (:mod:`~keras_cnn.analysis.geometry`), one naming
table (:mod:`~keras_cnn.analysis.naming`), one DOT writer (:mod:`~keras_cnn.analysis.dot`)
and one softmax-head check (:mod:`~keras_cnn.analysis.head`) serve the table
(:mod:`~keras_cnn.analysis.summary`), the diagrams (:mod:`~keras_cnn.analysis.diagram`) and
the maps and pictures (:mod:`~keras_cnn.analysis.inside`, :mod:`~keras_cnn.analysis.pictures`).
See ``docs/analysis.md``.
"""
