from agentapi.cli import main

raise SystemExit(main())
