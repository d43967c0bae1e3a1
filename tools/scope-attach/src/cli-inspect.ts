import { runTool } from '@scope/core';
import { inspectTool } from './commands.js';
await runTool(inspectTool);
