import sys

from .cli import main

if __name__ == "__main__":  # not in a process spawned from it (Dask's LocalCluster workers)
    sys.exit(main())
