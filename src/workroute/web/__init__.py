"""The web console: the agent's Omni-Channel widget, the Work Guide and To Do list, the
supervisor's live view and simple record pages, served by ``workroute serve`` at
``/console/`` as plain HTML, CSS and ES modules (no build step, nothing from a CDN)."""
