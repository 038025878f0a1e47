import sys

from mockfiles.cli import main

sys.exit(main())
