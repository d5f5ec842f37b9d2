# %% [markdown]
# # Deep ResNets, ResNeXt and Wide ResNets
#
# Lesson 9. Bottleneck blocks, the ResNet family's costs, grouped convolutions and widening.

# %%

import keras_cnn

names = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
    "wrn28_10",
    "resnet110",
    "resnet164v2",
]
table = keras_cnn.list_models().set_index("name").loc[names]
table[["family", "weight_layers", "params", "macs", "top1_error", "cifar10_error"]]

# %% [markdown]
# ## Where ResNet-50 spends its multiply-adds

# %%
rows = keras_cnn.inspect_structure(lambda: keras_cnn.build_resnet(50), keras_cnn.summarize)
stage = rows.layer.str.extract(r"^(conv\d)")[0].fillna("head")
(rows.groupby(stage).macs.sum() / 1e9).round(3)

# %% [markdown]
# ## A grouped 3x3 convolution: ResNeXt's block on twice the channels

# %%
import keras

inputs = keras.Input((56, 56, 256))
plain = keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs[..., :64])
grouped = keras.layers.Conv2D(128, 3, padding="same", groups=32, use_bias=False)(inputs[..., :128])
print("ResNet 3x3:", 3 * 3 * 64 * 64, "weights; ResNeXt grouped 3x3:", 3 * 3 * 4 * 128, "weights")

# %%
keras_cnn.show(keras_cnn.build_cifar_resnet(20))
