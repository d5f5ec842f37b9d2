"""Glossary and FAQ, searchable."""

import streamlit as st

from app import lesson as lesson_pages
from app import logic, shell

course = shell.course()
lesson_ids = {lesson.id for lesson in course.lessons}
st.title("Glossary and FAQ")
query = st.text_input(
    "Search", placeholder="e.g. receptive field, bottleneck, transfer", key="glossary_query"
)

terms = logic.search_glossary(course.glossary, query)
faq = logic.search_faq(course.faq, query)
glossary_tab, faq_tab = st.tabs([f"Glossary ({len(terms)})", f"FAQ ({len(faq)})"])
with glossary_tab:
    if not terms:
        st.info("No glossary term matches your search.")
    for entry in terms:
        st.markdown(f"**{entry.term}**: {entry.definition}")
        if entry.see_also:
            st.caption("See also: " + ", ".join(entry.see_also))
        if entry.lesson in lesson_ids:  # a link, like the FAQ's
            lesson = course.lesson(entry.lesson)
            lesson_pages.lesson_link(
                entry.lesson,
                label=f"Lesson {lesson.order}: {lesson.title}",
                icon=":material/menu_book:",
            )
with faq_tab:
    if not faq:
        st.info("No question matches your search.")
    for entry in faq:
        with st.expander(entry.question, expanded=bool(query.strip())):
            st.markdown(entry.answer)
            for lesson_id in entry.lessons:
                try:
                    lesson_pages.lesson_link(lesson_id)
                except KeyError:
                    pass
