export * from './options'
