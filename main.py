"""Start the marksocr desktop application (same as ``marksocr gui``)."""
import sys

from marksocr.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
