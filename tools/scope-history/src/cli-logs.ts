import { runTool } from '@scope/core';
import { logsTool } from './command.js';
await runTool(logsTool);
