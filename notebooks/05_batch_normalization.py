# %% [markdown]
# # Batch normalization
#
# Lesson 5. What BN counts as parameters, why a convolution before it needs no bias, why scaling
# the weights does not change its output, and why its momentum matters on a short run.

# %%
import os

import keras
import numpy as np

import keras_cnn

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"
EPOCHS = 1 if SMALL else 5
LIMIT = 256 if SMALL else None

# %% [markdown]
# ## Parameters: four per channel, two of them trainable

# %%
for name in ("vgg11", "vgg11_bn"):
    t = keras_cnn.inspect_structure(lambda n=name: keras_cnn.get_model(n), keras_cnn.totals)
    print(f"{name}: {t['params']:,} parameters, {t['trainable_params']:,} trainable")

# %% [markdown]
# ## Scale invariance: conv -> BN ignores the scale of the conv's weights

# %%
x = np.random.default_rng(0).normal(size=(16, 8, 8, 3)).astype("float32")
conv = keras.layers.Conv2D(4, 3, use_bias=False)
bn = keras.layers.BatchNormalization(epsilon=1e-6)
y1 = bn(conv(x), training=True)
conv.kernel.assign(conv.kernel * 10.0)
y2 = bn(conv(x), training=True)
print(
    "largest difference after scaling the weights by 10:",
    float(np.abs(np.asarray(y1) - np.asarray(y2)).max()),
)

# %% [markdown]
# ## Momentum on a short run
# Keras' default 0.99 remembers about 100 steps; 60 steps leave 0.99 ** 60 of the initial
# statistics in place.

# %%
print(f"0.99 ** 60 = {0.99**60:.2f}; 0.9 ** 60 = {0.9**60:.1e}")

# %%
from keras_cnn.train import train

runs = {
    m: train("resnet20", epochs=EPOCHS, limit=LIMIT, seed=0, bn_momentum=m, verbose=0, record=False)
    for m in (0.9, 0.99)
}
{m: h[["accuracy", "test_accuracy"]].iloc[-1].round(3).to_dict() for m, h in runs.items()}
