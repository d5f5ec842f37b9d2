"""The networks: blocks, the families as tables, the registry and its factory, weights and
ImageNet helpers."""
