# %% [markdown]
# # Transfer learning
#
# Lesson 10. A pretrained backbone in inference mode under a new head: only the head trains.
# (With network access `weights="imagenet"` loads keras.applications' published weights; here the
# backbone is random so that the notebook runs offline.)

# %%
import os

import keras

import keras_cnn

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"

base = keras_cnn.build_resnet(50, include_top=False, pooling="avg", input_shape=(64, 64, 3))
base.trainable = False
inputs = keras.Input((64, 64, 3))
outputs = keras.layers.Dense(5, activation="softmax")(base(inputs, training=False))
model = keras.Model(inputs, outputs)
trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
print(f"{model.count_params():,} parameters, {trainable:,} trainable (the head)")

# %%
keras_cnn.summarize(model).tail(5)

# %% [markdown]
# ## Preprocessing as keras.applications does it

# %%
import numpy as np

image = np.full((1, 224, 224, 3), 128.0, "float32")
print(
    keras_cnn.preprocess_input(image, "resnet50")[0, 0, 0],
    keras_cnn.preprocess_input(image, "vgg16")[0, 0, 0],
)
