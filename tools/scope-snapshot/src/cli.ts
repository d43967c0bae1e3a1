import { runTool } from '@scope/core';
import { tool } from './commands.js';
await runTool(tool);
