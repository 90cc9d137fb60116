"""`minicompress course check` and `grade`: each exercise in its own process with a time limit;
a wrong, a crashing and a never-ending submission do not stop the grading of the others."""
import csv
import textwrap

import pytest

from minicompress.cli import main
from minicompress.course import exercises
from minicompress.course.grading import grade, run_isolated

CORRECT = '''
import numpy as np

def obd_saliency(h, w):
    return 0.5 * h * w ** 2

def polynomial_sparsity(step, initial, final, begin, end, power):
    p = min(1.0, max(0.0, (step - begin) / (end - begin)))
    return final + (initial - final) * (1 - p) ** power
'''
WRONG = '''
def obd_saliency(h, w):
    return -0.5 * h * w ** 2
'''
CRASHING = '''
import os

def obd_saliency(h, w):
    os._exit(3)  # the process dies without a word

def polynomial_sparsity(step, initial, final, begin, end, power):
    raise ValueError("oops")
'''
ENDLESS = '''
def obd_saliency(h, w):
    while True:
        pass

def polynomial_sparsity(step, initial, final, begin, end, power):
    return [][1]
'''
BROKEN = "def obd_saliency(h, w)\n    return h\n"
STUB = "def obd_saliency(h, w):\n    raise NotImplementedError\n"


def write(folder, name, text):
    (folder / f"{name}.py").write_text(textwrap.dedent(text))


@pytest.fixture
def submissions(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in dict(alice=CORRECT, bob=WRONG, carol=CRASHING, dave=ENDLESS, erin=BROKEN, fay=STUB).items():
        write(folder, name, text)
    return folder


def test_grade_a_folder(submissions, tmp_path):
    out = tmp_path / "grades"
    names = ["obd_saliency", "polynomial_sparsity"]
    table = grade(submissions, names, out=out, timeout=4.0)
    status = {s: {n: o.status for n, o in row.items()} for s, row in table.items()}
    assert status == {"alice": {"obd_saliency": "pass", "polynomial_sparsity": "pass"},
                      "bob": {"obd_saliency": "fail", "polynomial_sparsity": "missing"},
                      "carol": {"obd_saliency": "crash", "polynomial_sparsity": "fail"},
                      "dave": {"obd_saliency": "timeout", "polynomial_sparsity": "fail"},
                      "erin": {"obd_saliency": "error", "polynomial_sparsity": "error"},
                      "fay": {"obd_saliency": "stub", "polynomial_sparsity": "missing"}}
    assert table["dave"]["obd_saliency"].seconds < 4.0 + 3.0  # killed at the limit
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", *names, "passed", "total"]
    assert rows[1] == ["alice", "pass", "pass", "2", "2"]
    assert rows[2] == ["bob", "fail", "missing", "0", "2"]
    assert rows[4] == ["dave", "timeout", "fail", "0", "2"]
    summary = (out / "summary.txt").read_text()
    assert "obd_saliency" in summary and "1 of 6" in summary and "timeout 1" in summary
    feedback = (out / "feedback" / "bob.txt").read_text()
    assert "FAILED on case" in feedback and "expected" in feedback
    assert "raised ValueError: oops" in (out / "feedback" / "carol.txt").read_text()
    assert "IndexError" in (out / "feedback" / "dave.txt").read_text()
    assert "does not parse" in (out / "feedback" / "erin.txt").read_text()
    assert not list(out.rglob("*.part"))  # atomic writes leave no temporaries


def test_grade_command_line(submissions, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["course", "grade", str(submissions), "--exercises", "polynomial_sparsity",
                 "--timeout", "20", "--out", str(out), "--quiet", "--jobs", "2"])
    assert code == 0
    assert "polynomial_sparsity  1 of 6" in capsys.readouterr().out
    assert (out / "grades.csv").read_text().splitlines()[1] == "alice,pass,1,1"


def test_check_command_line(submissions, capsys):
    assert main(["course", "check", "obd_saliency", str(submissions / "alice.py")]) == 0
    assert "passed all" in capsys.readouterr().out
    assert main(["course", "check", "obd_saliency", str(submissions / "bob.py")]) == 1
    assert "FAILED on case 2" in capsys.readouterr().out
    assert main(["course", "check", "polynomial_sparsity", str(submissions / "bob.py")]) == 1
    assert "defines no function" in capsys.readouterr().out


def test_check_refuses_the_library_function(tmp_path):
    write(tmp_path, "sly", "from minicompress.papers.lecun1989_obd import saliency as obd_saliency\n")
    outcome = run_isolated("obd_saliency", tmp_path / "sly.py", timeout=20)
    assert outcome.status == "fail" and "library's own function" in outcome.feedback


def test_list_show_starter(tmp_path, capsys):
    assert main(["course", "list"]) == 0
    listing = capsys.readouterr().out
    assert "tutorials/01_engine.py" in listing and "compute_mask" in listing
    assert main(["course", "show", "compute_mask"]) == 0
    assert "def compute_mask(" in capsys.readouterr().out
    starter = tmp_path / "mine.py"
    assert main(["course", "starter", str(starter)]) == 0
    assert main(["course", "starter", str(starter)]) == 2  # no silent overwrite
    text = starter.read_text()
    compile(text, str(starter), "exec")
    assert text.count("raise NotImplementedError") == len(exercises())


def test_grade_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="FOLDER"):
        grade(tmp_path / "nowhere", ["obd_saliency"])


def test_a_fresh_interpreter_where_fork_is_unavailable(submissions, monkeypatch):
    from minicompress.course import grading
    monkeypatch.setattr(grading.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert run_isolated("obd_saliency", submissions / "alice.py", timeout=30).status == "pass"
    assert run_isolated("obd_saliency", submissions / "carol.py", timeout=30).status == "crash"
