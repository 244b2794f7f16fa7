import SiteLensCommands

SiteLens.main()
