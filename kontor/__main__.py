from kontor.cli import main

raise SystemExit(main())
