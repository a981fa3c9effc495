import sys

from marksocr.cli.main import main

sys.exit(main())
