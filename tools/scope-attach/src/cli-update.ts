import { runTool } from '@scope/core';
import { updateTool } from './commands.js';
await runTool(updateTool);
