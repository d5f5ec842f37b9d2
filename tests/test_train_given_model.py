"""train(model) trains the user's model's weights and gives everything else back as it was:
batch-norm momenta and the compiled optimizer (issue 19, item 10)."""

import keras
import numpy as np
import pytest

from keras_cnn.train import train

TINY = dict(epochs=1, limit=64, batch_size=32, seed=0, verbose=0, record=False)


def _small_model() -> keras.Model:
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.99, name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_a_compiled_model_keeps_its_optimizer_and_batch_norm_momentum():
    model = _small_model()
    adam = keras.optimizers.Adam(1e-3)
    model.compile(adam, "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_layer("conv").get_weights()[0].copy()
    history = train(model, **TINY)  # SGD and momentum 0.9 during the run
    assert history.learning_rate.tolist() == pytest.approx([0.1])
    assert model.optimizer is adam and int(adam.iterations.numpy()) == 0
    assert model.get_layer("bn").momentum == 0.99
    assert not np.allclose(model.get_layer("conv").get_weights()[0], before)  # trained
    # Still compiled as the user compiled it: Adam's step, the user's loss and metrics.
    x, y = np.zeros((4, 32, 32, 1), "float32"), np.zeros(4, "int32")
    model.fit(x, y, verbose=0)
    assert int(adam.iterations.numpy()) == 1
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}


class _Fail(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        raise RuntimeError("out of memory")


def test_settings_come_back_when_training_fails_and_an_uncompiled_model_stays_usable():
    model = _small_model()
    model.compile(keras.optimizers.RMSprop(), "sparse_categorical_crossentropy")
    optimizer = model.optimizer
    with pytest.raises(RuntimeError, match="out of memory"):
        train(model, callbacks=[_Fail()], **TINY)
    assert model.optimizer is optimizer and model.get_layer("bn").momentum == 0.99
    fresh = _small_model()
    train(fresh, **TINY)
    assert fresh.get_layer("bn").momentum == 0.99
    # Not compiled before: left compiled as trained, so evaluate works at once.
    x, y = np.zeros((4, 32, 32, 1), "float32"), np.zeros(4, "int32")
    assert np.isfinite(fresh.evaluate(x, y, verbose=0, return_dict=True)["loss"])
