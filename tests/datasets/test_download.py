"""Downloads against a real HTTP server on 127.0.0.1, started by the test (no internet).

The server serves a good file, a corrupt one (right length, wrong bytes) and a truncated one
(announces more bytes than it sends), and counts requests, so that a test can check that a good
cached file is not downloaded again.
"""
import gzip
import hashlib
import http.server
import io
import socket
import threading

import numpy as np
import pytest

from minicompress.datasets import load
from minicompress.datasets.download import DownloadError, Progress, download
from minicompress.datasets.fetch import ensure_files
from minicompress.datasets.mnist import load_idx_dataset
from minicompress.datasets.registry import RemoteDataset, RemoteFile
from tests.datasets.idx_writer import idx_bytes

IMAGES = np.arange(4 * 28 * 28, dtype=np.int64).reshape(4, 28, 28).astype(np.uint8)
LABELS = np.array([7, 2, 1, 0], dtype=np.uint8)
FILES = {
    "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(IMAGES), mtime=0),
    "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(LABELS), mtime=0),
}
GOOD = FILES["t10k-labels-idx1-ubyte.gz"]


def md5(data):
    return hashlib.md5(data).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """/good/NAME, /corrupt/NAME, /truncated/NAME; anything else is a 404."""

    def do_GET(self):
        self.server.requests.append(self.path)
        kind, _, name = self.path.strip("/").partition("/")
        body = FILES.get(name)
        if body is None or kind not in ("good", "corrupt", "truncated"):
            self.send_error(404)
            return
        if kind == "corrupt":
            body = bytes(reversed(body))
        self.send_response(200)
        announced = len(body) + 1000 if kind == "truncated" else len(body)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)  # then the connection closes (HTTP/1.0)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: what "no network" looks like to urllib."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_good_file_is_downloaded_and_verified(server, tmp_path):
    _, base = server
    dest = tmp_path / "cache" / "labels.gz"
    download([f"{base}/good/t10k-labels-idx1-ubyte.gz"], dest, md5=md5(GOOD), progress=False)
    assert dest.read_bytes() == GOOD
    assert [p.name for p in dest.parent.iterdir()] == ["labels.gz"]  # no temporary file


@pytest.mark.parametrize("kind, reason", [("corrupt", "checksum mismatch"),
                                          ("truncated", "incomplete")])
def test_bad_download_raises_and_leaves_nothing(server, tmp_path, kind, reason):
    _, base = server
    dest = tmp_path / "labels.gz"
    with pytest.raises(DownloadError, match=reason):
        download([f"{base}/{kind}/t10k-labels-idx1-ubyte.gz"], dest, md5=md5(GOOD),
                 progress=False)
    assert list(tmp_path.iterdir()) == []


def test_mirrors_are_tried_in_order(server, tmp_path):
    httpd, base = server
    urls = [f"{base}/missing/t10k-labels-idx1-ubyte.gz",
            f"{base}/corrupt/t10k-labels-idx1-ubyte.gz",
            f"{base}/good/t10k-labels-idx1-ubyte.gz"]
    download(urls, tmp_path / "labels.gz", md5=md5(GOOD), progress=False)
    assert (tmp_path / "labels.gz").read_bytes() == GOOD
    assert [r.split("/")[1] for r in httpd.requests] == ["missing", "corrupt", "good"]


def test_progress_goes_to_stderr_and_can_be_silenced(server, tmp_path, capsys):
    _, base = server
    url = f"{base}/good/t10k-labels-idx1-ubyte.gz"
    download([url], tmp_path / "a", md5=md5(GOOD), progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "a: " in err and f"({100}%)" in err
    download([url], tmp_path / "b", md5=md5(GOOD), progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_line_is_throttled():
    stream = io.StringIO()
    meter = Progress("f", total=100, stream=stream, interval=3600)
    for done in range(0, 101, 10):
        meter.update(done)
    meter.close(100)
    assert stream.getvalue() == "\rf: 0.0 / 0.0 MB (0%)\rf: 0.0 / 0.0 MB (100%)\n"


def fake_mnist():
    """A RemoteDataset with the served files' real checksums (MNIST's are for MNIST)."""
    files = tuple(RemoteFile(name, len(body), md5(body)) for name, body in FILES.items())
    return RemoteDataset(name="fake", title="Fake", mirrors=("http://unused.invalid/",),
                         train_files=files, test_files=files, classes=tuple("0123456789"))


def test_dataset_is_downloaded_once_then_read_from_cache(server, tmp_path):
    httpd, base = server
    where = dict(data_dir=tmp_path, mirrors=[f"{base}/good"], progress=False)
    x, y = load_idx_dataset(fake_mnist(), "test", **where)
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(y, LABELS)
    np.testing.assert_array_equal(x[:, 0], IMAGES / np.float32(255))
    assert len(httpd.requests) == 2
    assert sorted(p.name for p in (tmp_path / "fake").iterdir()) == sorted(FILES)
    load_idx_dataset(fake_mnist(), "test", **where)
    assert len(httpd.requests) == 2  # the good cached files were not downloaded again


def test_corrupt_mirror_leaves_no_cached_file(server, tmp_path):
    _, base = server
    with pytest.raises(FileNotFoundError, match="checksum mismatch"):
        ensure_files(fake_mnist(), "test", data_dir=tmp_path, mirrors=[f"{base}/corrupt"],
                     progress=False)
    assert not (tmp_path / "fake").exists() or list((tmp_path / "fake").iterdir()) == []


def test_no_network_names_each_file_and_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load("mnist", "test", data_dir=tmp_path, mirrors=[closed_port_url()], progress=False)
    message = str(caught.value)
    assert f"Place these files, as published, in {tmp_path / 'mnist'}:" in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "9fb629c4189551a2d022fa330f9573f3" in message  # what the file to place must be
    assert list(tmp_path.rglob("*.part")) == []


def test_download_false_never_connects(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found .* and not downloaded"):
        load("fashion_mnist", "test", data_dir=tmp_path, download=False)
