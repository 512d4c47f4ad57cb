from cornu.cli import main

main()
