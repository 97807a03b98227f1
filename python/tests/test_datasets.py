"""Datasets: the frame cache's items equal the frames of their recordings, the split is the
command line's, and the dataset works with data loaders (pickled into workers)."""

import pickle

import numpy as np
import pytest

import spikeforge
from spikeforge.datasets import CIFAR10DVS, NMNIST


def open_nmnist(folder, cache, train=True, **options):
    return NMNIST(folder, train=train, **{"size": 34, "cache": cache, **options})


def test_items_are_the_frames_of_their_recordings(nmnist_folder, cache_root):
    train = open_nmnist(nmnist_folder, cache_root)
    test = open_nmnist(nmnist_folder, cache_root, train=False)
    assert (len(train), len(test)) == (12, 6)
    assert train.classes == ["0", "1", "2"]
    assert train.class_to_idx == {"0": 0, "1": 1, "2": 2}
    manifest = train.split_manifest
    assert manifest["hash"] == train.split_hash == test.split_hash
    for part, dataset in (("train", train), ("test", test)):
        assert [r["label"] for r in manifest[part]] == dataset.targets
        for index, recording in enumerate(manifest[part]):
            frames, label = dataset[index]
            events = spikeforge.read_events(nmnist_folder / recording["file"])
            expected = spikeforge.to_frames(events, 8, "number", size=34, sensor_size=(34, 34))
            assert label == recording["label"]
            assert frames.dtype == np.float32 and frames.shape == (8, 2, 34, 34)
            np.testing.assert_array_equal(frames, expected)


def test_frames_are_a_read_only_view_and_items_are_copies(nmnist_folder, cache_root):
    dataset = open_nmnist(nmnist_folder, cache_root)
    assert dataset.frames.shape == (12, 8, 2, 34, 34)
    assert not dataset.frames.flags.writeable
    assert not dataset.frames.flags.owndata
    frames, _ = dataset[0]
    frames += 1.0
    np.testing.assert_array_equal(dataset[0][0], frames - 1.0)
    assert dataset[-1][1] == dataset.targets[-1]
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def test_a_second_open_reuses_the_cache(nmnist_folder, cache_root):
    first = open_nmnist(nmnist_folder, cache_root)
    second = open_nmnist(nmnist_folder, cache_root)
    assert first.cache_dir == second.cache_dir
    resized = open_nmnist(nmnist_folder, cache_root, frames=4, size=16)
    assert resized.cache_dir != first.cache_dir
    assert resized[0][0].shape == (4, 2, 16, 16)


def test_transforms_pickling_and_batches(nmnist_folder, cache_root):
    dataset = open_nmnist(
        nmnist_folder, cache_root, transform=np.sign, target_transform=lambda y: y * 10
    )
    frames, label = dataset[3]
    assert set(np.unique(frames)) <= {0.0, 1.0}
    assert label == dataset.targets[3] * 10
    dataset.target_transform = None
    copy = pickle.loads(pickle.dumps(dataset))
    assert len(copy) == len(dataset) and copy.split_hash == dataset.split_hash
    np.testing.assert_array_equal(copy[5][0], dataset[5][0])
    # What a data loader does: index, stack into a batch.
    batch = np.stack([dataset[i][0] for i in range(4)])
    assert batch.shape == (4, 8, 2, 34, 34)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_torch_data_loader_with_workers(nmnist_folder, cache_root, context):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    dataset = open_nmnist(nmnist_folder, cache_root)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=5, shuffle=False, num_workers=2, multiprocessing_context=context
    )
    batches = list(loader)
    assert [len(labels) for _, labels in batches] == [5, 5, 2]
    frames, labels = batches[0]
    assert frames.dtype == torch.float32 and tuple(frames.shape) == (5, 8, 2, 34, 34)
    np.testing.assert_array_equal(frames.numpy(), np.stack([dataset[i][0] for i in range(5)]))
    assert labels.tolist() == dataset.targets[:5]


def test_bad_options_are_the_command_lines_errors(nmnist_folder, cache_root, tmp_path):
    with pytest.raises(ValueError, match="invalid value 'everything'"):
        open_nmnist(nmnist_folder, cache_root, split="everything")
    with pytest.raises(RuntimeError, match="empty/Train: No such file"):
        NMNIST(tmp_path / "empty", cache=cache_root)


def test_cifar10dvs_split_and_resized_frames(tmp_path, cache_root):
    rng = np.random.default_rng(3)
    classes = "airplane automobile bird cat deer dog frog horse ship truck".split()
    for name in classes:
        (tmp_path / name).mkdir()
        for i in range(10):
            n = 500
            events = np.empty(n, dtype=spikeforge.EVENT_DTYPE)
            events["t"] = np.sort(rng.integers(0, 1_000_000, n))
            events["x"], events["y"] = rng.integers(0, 128, n), rng.integers(0, 128, n)
            events["p"] = rng.integers(0, 2, n)
            spikeforge.write_events(tmp_path / name / f"cifar10_{name}_{i}.aedat", events)
    train = CIFAR10DVS(tmp_path, train=True, cache=cache_root)
    test = CIFAR10DVS(tmp_path, train=False, cache=cache_root)
    # SpikingJelly's split: the first 90 % of each class (in file-name order) trains.
    assert (len(train), len(test)) == (90, 10)
    assert train.classes == classes
    assert [r["file"] for r in test.split_manifest["test"]] == [
        f"{name}/cifar10_{name}_9.aedat" for name in classes
    ]
    frames, label = test[1]
    events = spikeforge.read_events(tmp_path / "automobile" / "cifar10_automobile_9.aedat")
    np.testing.assert_array_equal(frames, spikeforge.to_frames(events, size=32, sensor_size=(128, 128)))
    assert (label, frames.shape) == (1, (8, 2, 32, 32))
