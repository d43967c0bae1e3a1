import { runTool } from '@scope/core';
import { psTool } from './commands.js';
await runTool(psTool);
