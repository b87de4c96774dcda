"""The use cases, each once: typed inputs, typed results, no printing, prompting or HTTP. The CLI, the demo, the
scheduler and the web console call them and only parse input and present output."""
