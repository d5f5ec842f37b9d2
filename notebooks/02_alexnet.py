# %% [markdown]
# # AlexNet: ReLU, dropout, two GPUs
#
# Lesson 2. AlexNet's parameters sit in its fully connected layers, its multiply-adds in its
# convolutions; the paper's two GPUs become grouped convolutions.

# %%
import keras_cnn

single = keras_cnn.build_alexnet()
towers = keras_cnn.build_alexnet(two_tower=True)
print(f"single tower: {single.count_params():,} parameters; two towers: {towers.count_params():,}")

# %%
table = keras_cnn.summarize(single)
table[table.params > 0][["layer", "type", "output_shape", "params", "macs"]]

# %% [markdown]
# ## Where the parameters and the multiply-adds are

# %%
dense = table.type == "Dense"
print(
    f"fully connected: {table[dense].params.sum() / table.params.sum():.0%} of the parameters, "
    f"{table[dense].macs.sum() / table.macs.sum():.0%} of the multiply-adds"
)

# %% [markdown]
# ## Two towers
# `two_tower=True` splits conv2, conv4 and conv5 into two groups: each filter sees half of the
# previous layer's channels, as on the paper's two GTX 580s.

# %%
both = keras_cnn.summarize(towers).set_index("layer").params
keras_cnn.summarize(single).set_index("layer").params.to_frame("single").join(
    both.rename("two towers")
).query("single > 0")

# %%
keras_cnn.show(single)
