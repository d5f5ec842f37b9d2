"""keras-cnn course: `streamlit run streamlit_app.py` (or `make run`).

The entrypoint only routes: the pages live in ``app/``. Pages have no icons on purpose:
Streamlit turns a page's icon into the favicon, fetched from Google Fonts for ``:material/`` icons
(offline machines log console errors). TensorFlow is not imported here (the
course map paints without it); it is loaded in the background after the first page.

``streamlit run`` finds ``app = st.App(...)`` below and imports this file to start the server
(outside any script run): then it only builds the ASGI app, with ``app.server``'s middleware
that lets a page opened by its address (``/model_lab``) load without 404s. Every script run
(a browser session, ``AppTest``) routes the pages.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if (
    get_script_run_ctx(suppress_warning=True) is None
):  # imported by `streamlit run` to serve the course
    from app import server

    app = st.App(__file__, middleware=server.middleware())
else:
    import quiz
    from app import classroom, identity, shell
    from app import lesson as lesson_pages

    with shell.timed_run():  # logged only under KERAS_CNN_RUN_LOG (benchmarks)
        st.set_page_config(page_title="keras-cnn course", layout="wide")

        progress = shell.store()
        config = classroom.settings()
        member = None
        if config.class_mode:  # signed in through st.login, on the roster
            member = classroom.member(progress, config)
            learner = member.email
            classroom.sidebar(progress, member)
        else:
            learner = identity.learner(progress)
            if learner is None:  # this browser has no learner yet: ask, nothing else
                identity.ask(progress)
                st.stop()
            shell.sidebar(progress, learner)
        course = shell.course()
        states = quiz.lesson_states(course, shell.passed_for_unlocking(progress, learner))

        navigation = st.navigation(
            {
                "Course": [
                    st.Page("app/pages/course_map.py", title="Course map", default=True),
                    st.Page(
                        "app/pages/exercises.py", title="Write it yourself", url_path="exercises"
                    ),
                ],
                "Lessons": [lesson_pages.lesson_page(le.id, states) for le in course.lessons],
                "Explore": [
                    st.Page("app/pages/explorer.py", title="Architecture explorer"),
                    st.Page("app/pages/model_lab.py", title="Model lab"),
                    st.Page(
                        "app/pages/look_inside.py", title="Look inside", url_path="look_inside"
                    ),
                    st.Page("app/pages/glossary.py", title="Glossary and FAQ"),
                ],
                "Training": [
                    st.Page("app/pages/training.py", title="Training", url_path="training"),
                    *(  # the class gallery: class mode only (quiz.gallery)
                        [st.Page("app/pages/gallery.py", title="Class gallery", url_path="gallery")]
                        if member is not None
                        else []
                    ),
                ],
                # only an instructor's navigation has the page: for anyone else its address
                # is not a page (and the page itself checks the role again)
                **(
                    {"Class": [st.Page("app/pages/instructor.py", title="Instructor")]}
                    if member is not None and member.is_instructor
                    else {}
                ),
            },
            expanded=True,
        )
        navigation.run()
        shell.prewarm()
