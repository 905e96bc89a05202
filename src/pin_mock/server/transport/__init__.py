"""How the sandbox meets the network: uvicorn's configuration, the connection guard, logs."""
