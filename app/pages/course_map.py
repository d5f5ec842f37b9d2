"""Course map: the architecture matrix with each lesson locked, open or passed, the learner's
progress and "continue where you left off". No TensorFlow here."""

import streamlit as st

import quiz
from app import exercise_views, identity, logic, shell
from app import lesson as lesson_pages

course = shell.course()
progress = shell.store()
learner = identity.learner(progress)
passed = shell.passed_for_unlocking(progress, learner)
states = quiz.lesson_states(course, passed)
scores = progress.lesson_scores(learner)
done, total = logic.course_progress(states)

st.title("The classic CNNs, from LeNet-5 to ResNet")
st.markdown(
    "A hands-on course: read each lesson, explore the **live Keras models** it talks about, "
    "and pass its **System Check** to unlock the next architecture."
)
st.progress(
    done / total if total else 0.0,
    text=f"**{identity.shown(learner)}**: {done} of {total} lessons passed",
)

target = logic.continue_lesson(course, states, progress.last_visited(learner))
if target is None:
    st.success("You passed every System Check. Congratulations!", icon=":material/celebration:")
else:
    lesson = course.lesson(target)
    started = progress.last_visited(learner) is not None
    verb = "Continue where you left off" if started else "Start the course"
    if st.button(f"{verb}: {lesson.order}. {lesson.title}", type="primary", key="continue"):
        lesson_pages.go_to_lesson(target)

matrix_col, list_col = st.columns([2, 3], gap="large")
with matrix_col:
    st.subheader("Architecture matrix")
    st.graphviz_chart(
        logic.course_map_dot(
            quiz.architecture_matrix(course, passed),
            href=lambda lesson_id: logic.lesson_address(lesson_id, learner),
        )
    )
    st.caption(
        "Click a lesson to open it. Green: passed · blue: open · grey: locked (pass the "
        "lessons its arrows come from)"
    )

with list_col:
    st.subheader("Lessons")
    for lesson in course.lessons:
        state = states[lesson.id]
        style = logic.STATE_STYLE[state]
        # The link gets the column's full width (titles are long); state and score below it.
        lesson_pages.lesson_link(lesson.id, icon=logic.MATERIAL_ICON[state])
        best = scores.get(lesson.id)
        text = f"{style['word']}" + (f", best score {best:.0%}" if best is not None else "")
        st.progress(min(max(best or 0.0, 0.0), 1.0), text=text)
        exercise_views.built_line(lesson.id, learner)

with st.expander("Open any lesson"):
    ids = [le.id for le in course.lessons]
    choice = st.selectbox(
        "Lesson",
        ids,
        format_func=lambda i: f"{course.lesson(i).order}. {course.lesson(i).title}",
        key="jump_lesson",
    )
    if st.button("Open", key="jump"):
        lesson_pages.go_to_lesson(choice)
