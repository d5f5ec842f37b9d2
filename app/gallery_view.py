"""Look inside on a class gallery entry (``/look_inside?shared=<entry>``): the entry is offered
only to a signed-in member who may see it (``quiz.gallery.entry``), and its ``.keras`` file is
loaded after its checksum passed, in Keras safe mode only."""

from __future__ import annotations

import streamlit as st

from app import classroom, shell
from quiz import gallery


def sources(wanted: str) -> list[tuple[str, str, str]]:
    """The page's ``(kind, name, label)`` for the entry, or none with a one-line warning."""
    member = classroom.current()
    if member is None:
        st.warning("Gallery entries open in class mode only: showing your own models.")
        return []
    try:
        item = gallery.entry(shell.store(), wanted, member.email, member.is_instructor)
        gallery.verified_file(item)  # a changed file is not offered (nor loaded below)
    except gallery.GalleryError as exc:
        st.warning(f"{exc}: showing your own models.")
        return []
    accuracy = "" if item.test_accuracy is None else f", test accuracy {item.test_accuracy:.0%}"
    return [("shared", str(item.id), f"Gallery #{item.id}: {item.model} on {item.data}{accuracy}")]


def load(name: str):
    """The entry's model (checksum checked, safe mode) and what Look inside needs to know."""
    import keras

    item = gallery.entry(shell.store(), name, "", instructor=True)  # visibility: sources()
    path = gallery.verified_file(item)
    return keras.models.load_model(path, safe_mode=True), {"data": item.data, "random": False}
