import { runTool } from '@scope/core';
import { attachTool } from './commands.js';
await runTool(attachTool);
