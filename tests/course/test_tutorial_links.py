"""Every tutorial ends with a cell per checked exercise (`check("name", name)`, commented until the
student has written the function), after its own exercises; the cells run as they are."""
from pathlib import Path

import pytest

from minicompress.course.registry import all_exercises
from minicompress.notebooks import to_notebook

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
MARK = "# **Checked exercises**"
BY_TUTORIAL = {}
for _ex in all_exercises().values():
    BY_TUTORIAL.setdefault(_ex.tutorial, []).append(_ex.name)


@pytest.mark.parametrize("tutorial", sorted(BY_TUTORIAL))
def test_the_tutorial_ends_with_its_checks(tutorial):
    text = (TUTORIALS / f"{tutorial}.py").read_text()
    assert text.count(MARK) == 1
    head, tail = text.split(MARK)
    assert "Exercises" in head  # after the tutorial's own exercises
    lines = [line for line in tail.splitlines()[1:] if line.strip()]
    assert all(line.startswith("#") or line == "from minicompress.course import check" for line in lines)
    for name in BY_TUTORIAL[tutorial]:
        assert f'# check("{name}", {name})' in tail
    exec(compile(tail.split("\n", 2)[2], tutorial, "exec"), {})  # the check cells run as they are
    cells = to_notebook(text, tutorial)["cells"]
    assert "from minicompress.course import check" in "".join(cells[-len(BY_TUTORIAL[tutorial])]["source"])


def test_the_library_function_passes_with_a_note():
    from minicompress.course import check, reference
    result = check("compute_mask", reference("compute_mask"))
    assert result.passed and "library's own function" in result.feedback
