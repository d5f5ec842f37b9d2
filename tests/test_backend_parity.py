"""JAX and PyTorch train like TensorFlow (issue 20, item 2).

Under JAX and PyTorch Keras computes a softmax output's cross-entropy from probabilities
clipped at 1e-7 (no gradient for an example that wrong); ``train`` fits the model's logits
view there (``keras_cnn.training.logits``); ``benchmarks/gpu_check.py --tiny``
(tests/test_gpu_check.py) trains through it under JAX.
"""

import keras
import numpy as np

import keras_cnn
from keras_cnn.training.logits import logits_trainee, logits_view


def test_logits_view_shares_the_variables_and_gives_the_softmax_inputs():
    model = keras_cnn.build_cifar_resnet(8, input_shape=(16, 16, 3))
    view = logits_view(model)
    assert view is not None and view.output_shape == model.output_shape
    assert [id(v) for v in view.weights] == [id(v) for v in model.weights]
    x = np.random.default_rng(0).normal(size=(4, 16, 16, 3)).astype("float32")
    logits = keras.ops.convert_to_numpy(view(x, training=False))
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    softmax = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(-1, keepdims=True), probabilities, atol=1e-6)
    assert model.layers[-1].activation.__name__ == "softmax"  # the model is unchanged


def test_no_view_without_a_softmax_dense_head():
    logits_model = keras_cnn.build_lenet5(classifier_activation=None)
    assert logits_view(logits_model) is None
    inputs = keras.Input((4,))
    outputs = keras.layers.Activation("softmax")(keras.layers.Dense(3)(inputs))
    assert logits_view(keras.Model(inputs, outputs)) is None


def test_tensorflow_trains_the_model_itself():
    model = keras_cnn.build_lenet5()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert logits_trainee(model, jit_compile=False) is model
