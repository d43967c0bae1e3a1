import { runTool } from '@scope/core';
import { pruneTool } from './command.js';
await runTool(pruneTool);
