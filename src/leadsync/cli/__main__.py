from leadsync.cli import main

main(prog_name="leadsync")
