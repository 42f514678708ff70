import pytest

from tests.fixtures.ray_workers import start_local_ray


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory):
    """A local Ray for one test module (Ray allows one per process; each module shuts its own down)."""
    ray = start_local_ray(tmp_path_factory.mktemp("ray"))
    yield ray
    ray.shutdown()
