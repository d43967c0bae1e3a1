import { runTool } from '@scope/core';
import { profileTool } from './profile-command.js';
await runTool(profileTool);
