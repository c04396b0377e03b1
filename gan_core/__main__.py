"""``python -m gan_core <command>`` -- see gan_core.cli."""

from gan_core.cli import main

raise SystemExit(main())
