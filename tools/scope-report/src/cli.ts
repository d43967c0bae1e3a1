import { runTool } from '@scope/core';
import { tool } from './command.js';
await runTool(tool);
