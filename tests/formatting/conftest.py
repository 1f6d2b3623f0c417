import datasets
import pytest
from records_support import ROWS


@pytest.fixture(scope="module")
def dataset():
    """ROWS as a datasets.Dataset, to write in every format `datasets` writes."""
    datasets.disable_progress_bars()
    return datasets.Dataset.from_list(ROWS)
