from seedguard.cli.main import main

main()
