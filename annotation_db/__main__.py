import sys

from annotation_db.cli import main

sys.exit(main())
