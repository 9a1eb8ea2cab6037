import sys

from gosstand.cli import main

sys.exit(main())
