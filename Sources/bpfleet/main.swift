import BpfleetClient

await BpfleetCommand.runFromCommandLine()
